-- A confirmed email change is kept, marked, until its link expires: a confirmation sent again (its first answer
-- lost) is answered as confirmed instead of 404 emailChangeNotFound (api/routes/me.ts).
ALTER TABLE "email_change" ADD COLUMN "confirmed_at" TIMESTAMP(3);
