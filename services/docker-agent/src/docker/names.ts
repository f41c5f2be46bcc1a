/** The engine reports container names with a leading slash (`/web`); callers use and see `web`. */
export const trimSlash = (name: string) => name.replace(/^\//, '');
