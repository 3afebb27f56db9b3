#!/usr/bin/env node
// Loads the TypeScript CLI through tsx, so no build step stands between a checkout and `npx picflow`.
import { register } from 'tsx/esm/api';

register();
await import('../cli/picflow.ts');
