// undici ships no types for its own modules: this one exports undici's Agent class.
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: typeof import('undici').Agent;
  export default Agent;
}
