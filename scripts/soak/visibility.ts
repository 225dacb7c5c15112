import type { Client } from '@temporalio/client';

/** A workflow run as Temporal's visibility lists it: its status and the state it published. */
export interface VisibleWorkflow {
  status: string;
  searchState?: string;
}

/** Every run of a workflow type as Temporal's visibility lists it, by workflow id and run id. */
export async function visibleWorkflows(
  client: Client,
  workflowType: 'contactChange' | 'contactMove' = 'contactChange',
): Promise<Map<string, VisibleWorkflow>> {
  const found = new Map<string, VisibleWorkflow>();
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${workflowType}'` })) {
    const state = execution.searchAttributes?.ContactTaskState as string[] | undefined;
    found.set(`${execution.workflowId}/${execution.runId}`, {
      status: execution.status.name,
      searchState: state?.[0],
    });
  }
  return found;
}

/** The state a closed run returned (a task's or a move's view), or why there is none. */
export async function workflowOutcome(client: Client, workflowId: string, runId?: string): Promise<string> {
  try {
    const view = (await client.workflow.getHandle(workflowId, runId).result()) as { state?: string };
    return view.state ?? 'no state';
  } catch (error) {
    return `failed (${(error as Error).message})`;
  }
}
