// The provider's official Node.js client ships no types: only what the tests call.
declare module 'ovh' {
  interface OvhClient {
    consumerKey?: string;
    requestPromised(method: string, path: string, params?: object): Promise<unknown>;
  }
  function ovh(params: {
    appKey: string;
    appSecret: string;
    consumerKey?: string;
    host: string;
    port: number;
    basePath: string;
  }): OvhClient;
  export = ovh;
}
