// picflow's version, read from package.json in this one place (the CLI's --version, the server's
// health answer, the OpenAPI document and the ComfyUI system stats all show it).
import { readFileSync } from 'node:fs';

export const PICFLOW_VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
