import { proxyActivities } from '@temporalio/workflow';

// The engine's ceiling for the benchmark: one workflow, one trivial activity.
const { ping } = proxyActivities<{ ping(): Promise<string> }>({ startToCloseTimeout: '10 seconds' });

export async function pingWorkflow(): Promise<string> {
  return ping();
}
