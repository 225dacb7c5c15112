import { propagation, type Context } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { Sinks } from '@temporalio/workflow';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

/**
 * OpenTelemetry traces across the API, the workflows and the activities (Temporal's interceptors carry the trace
 * context in workflow and activity headers). Off unless an exporter is configured: the standard
 * OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT variables, or an exporter given by a test.
 */
export interface Tracing {
  resource: Resource;
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

export function startTracing(
  serviceName: string,
  env: Record<string, string | undefined> = process.env,
  exporter?: SpanExporter,
): Tracing | undefined {
  const configured = env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!exporter && !configured) return undefined;
  const resource = new Resource({ 'service.name': env.OTEL_SERVICE_NAME ?? serviceName });
  const spanProcessor = exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new RequestIdFromBaggage(), spanProcessor],
  });
  provider.register();
  return { resource, spanProcessor, shutdown: () => provider.shutdown() };
}

/** The attribute naming the API request a span serves, also carried as baggage from the API to the activities. */
export const REQUEST_ID = 'request.id';

/** The caller's context with the request id as baggage: Temporal's interceptors carry it with the trace. */
export function withRequestId(context: Context, requestId: string): Context {
  const baggage = propagation.getBaggage(context) ?? propagation.createBaggage();
  return propagation.setBaggage(context, baggage.setEntry(REQUEST_ID, { value: requestId }));
}

/**
 * Gives every span started in this process the request id its context carries as baggage, so the activities'
 * spans name the request that led to them. (The workflow's own spans are started in its sandbox: they share the
 * trace, not the attribute.)
 */
class RequestIdFromBaggage implements SpanProcessor {
  onStart(span: Span, parentContext: Context) {
    const requestId = propagation.getBaggage(parentContext)?.getEntry(REQUEST_ID)?.value;
    if (requestId !== undefined && span.attributes[REQUEST_ID] === undefined) {
      span.setAttribute(REQUEST_ID, requestId);
    }
  }
  onEnd() {}
  forceFlush() {
    return Promise.resolve();
  }
  shutdown() {
    return Promise.resolve();
  }
}

/** For a Temporal Client: workflow starts, updates and signals carry the caller's trace context. */
export function tracingClientInterceptors(tracing: Tracing | undefined) {
  return tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } : undefined;
}

/**
 * Temporal's workflow interceptors for OpenTelemetry. A worker bundling at start adds them itself; the prebuilt
 * bundle has them only if they were given to bundleWorkflowCode (worker/bundle.ts).
 */
export const TRACING_WORKFLOW_MODULES = [
  require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors'),
];

/** For a Worker: spans for workflow and activity executions, workflow spans exported through a sink. */
export function tracingWorkerOptions(tracing: Tracing | undefined): {
  workflowModules: string[];
  activity: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<Sinks>;
} {
  if (!tracing) return { workflowModules: [], activity: [], sinks: {} };
  return {
    workflowModules: TRACING_WORKFLOW_MODULES,
    activity: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
