# The application image: one image, three roles chosen by the command: the API (default), the worker
# (node worker/main.js) and the migrate job (node scripts/migrate.js && node prisma/seed.js).
# It runs the production build (npm run build: compiled JavaScript, the workflow prebundled) with production
# dependencies only: no TypeScript, no tsx, no test tools.
# NODE_IMAGE: docker-compose.local-images.yml builds on contacts-local/node:20 where Docker Hub is out of reach.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CHECKPOINT_DISABLE=1
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Sources with every dependency, for the tools (the local images' mail catcher): never deployed.
FROM build AS tools
USER node
CMD ["node", "--import", "tsx", "scripts/mail-catcher.ts"]

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# --omit=optional too: npm keeps typescript and the prisma CLI with --omit=dev alone (docs/decisions/production-dependencies.md).
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./
USER node
EXPOSE 3000
CMD ["node", "api/server.js"]
