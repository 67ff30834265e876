// Lets tests call `inject('stack')` with a typed result; provided by test/global-setup.ts.
import type { StackEndpoints } from './stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackEndpoints;
  }
}

export {};
