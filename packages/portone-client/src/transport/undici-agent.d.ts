// undici ships no types for its own modules; agent.ts gives this one the type of undici's Agent.
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: unknown;
  export default Agent;
}
