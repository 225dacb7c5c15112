import { Client, Connection } from '@temporalio/client';
import { loadConfigOrExit } from '../lib/config';
import { createDb } from '../lib/db';
import { createOperatorTools } from '../api/operator';
import { temporalConnectionOptions } from '../lib/temporal-connection';

const USAGE = `npm run ops -- <command>
  find [--id N] [--service NAME] [--handle HANDLE] [--attention]
                                                     tasks, newest first, with validators and history
                                                     (--attention: those whose mail could not be delivered)
  waits ID                                           where an open task waits (live)
  cancel ID --operator NAME                          cancel an open task (audited)
  resend ID HANDLE --operator NAME                   send a validator a fresh code (audited)`;

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  const config = loadConfigOrExit();
  const db = createDb(config.DATABASE_URL, 2);
  const connection = await Connection.connect(temporalConnectionOptions(config));
  const tools = createOperatorTools(db, new Client({ connection, namespace: config.TEMPORAL_NAMESPACE }));
  const operator = option(args, 'operator');
  try {
    if (command === 'find') {
      const id = option(args, 'id');
      const found = await tools.find({
        id: id ? Number(id) : undefined,
        service: option(args, 'service'),
        handle: option(args, 'handle'),
        needsAttention: args.includes('--attention'),
      });
      process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
    } else if (command === 'waits') {
      process.stdout.write(`${JSON.stringify(await tools.whereItWaits(Number(args[0])), null, 2)}\n`);
    } else if (command === 'cancel' && operator) {
      process.stdout.write(`${JSON.stringify(await tools.cancel(Number(args[0]), operator), null, 2)}\n`);
    } else if (command === 'resend' && operator && args[1]) {
      const { resentTo, notYet } = await tools.resend(Number(args[0]), args[1], operator);
      process.stdout.write(`${JSON.stringify({ resentTo, notYet }, null, 2)}\n`);
    } else {
      process.stderr.write(`${USAGE}\n`);
      process.exitCode = 2;
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await db.$disconnect();
    await connection.close();
  }
}

void main();
