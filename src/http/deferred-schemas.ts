/**
 * Route schemas compiled when first needed, not at start.
 *
 * Fastify compiles every route's validator (Ajv) and response serializer (fast-json-stringify) as
 * the routes are registered, which was the largest part of the service's start: a restarted
 * instance took that long to answer anything. Here each route's compilers are built by the same
 * libraries, with the same options, but only when the route first validates or serializes, or
 * when {@link DeferredSchemas.compileAll} gets to them, one per turn of the event loop, soon after
 * the service listens, so that later requests rarely pay for it either.
 *
 * The two libraries themselves are loaded with the service: in the bundle `npm start` runs, their
 * code comes from its code cache (scripts/bundle.ts), where loading them from node_modules at the
 * first answer made that answer wait about 90 ms. Measured on 2 cores, medians of 7 starts to
 * the first answer: 397 to 434 ms loaded at first use, 322 to 342 ms loaded with the service.
 */
import ajvCompiler from '@fastify/ajv-compiler';
import serializerCompiler from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
/** What Fastify hands a compiler: one part of one route's schema. */
interface RouteSchema {
  schema: unknown;
}
/** A compilers factory as the two libraries export it, typed only as far as used here. */
type Build<F> = (externalSchemas: unknown, options: unknown) => (route: RouteSchema) => F;
type Validate = ((data: unknown, context?: object) => unknown) & {
  errors?: unknown;
  schemaEnv?: unknown;
};
type Serialize = (data: unknown) => string;

export interface DeferredSchemas {
  /** Fastify's `schemaController.compilersFactory` option. */
  readonly compilersFactory: CompilersFactory;
  /** How many route schemas are not compiled yet. */
  readonly pending: number;
  /** Compiles the rest, one per turn of the event loop; resolves once none is left. */
  compileAll(): Promise<void>;
}

export function deferredSchemas(): DeferredSchemas {
  const waiting = new Set<() => void>();

  /** A function standing for `compile()`'s result, compiling it when first needed. */
  function deferred<F extends (...args: never[]) => unknown>(
    compile: () => F,
  ): { stand: F; ensure: () => F } {
    let compiled: F | undefined;
    const ensure = (): F => {
      if (compiled === undefined) {
        compiled = compile();
        waiting.delete(ensure);
      }
      return compiled;
    };
    const stand = ((...args: Parameters<F>) => ensure()(...args)) as F;
    waiting.add(ensure);
    return { stand, ensure };
  }

  const buildValidator: Build<Validate> = (externalSchemas, ajvOptions) => {
    let compiler: ReturnType<Build<Validate>> | undefined;
    const compilerFor = () => {
      const select = ajvCompiler as unknown as () => Build<Validate>;
      return (compiler ??= select()(externalSchemas, ajvOptions));
    };
    return (route) => {
      const { stand, ensure } = deferred<Validate>(() => compilerFor()(route));
      // Fastify reads what Ajv leaves on the validating function: a failed validation's
      // `errors`, and `schemaEnv`, which makes it pass the value's parent along.
      Object.defineProperties(stand, {
        errors: { get: () => ensure().errors },
        schemaEnv: { get: () => ensure().schemaEnv },
      });
      return stand;
    };
  };

  const buildSerializer: Build<Serialize> = (externalSchemas, serializerOptions) => {
    let compiler: ReturnType<Build<Serialize>> | undefined;
    const compilerFor = () => {
      const select = serializerCompiler as unknown as () => Build<Serialize>;
      return (compiler ??= select()(externalSchemas, serializerOptions));
    };
    return (route) => deferred<Serialize>(() => compilerFor()(route)).stand;
  };

  return {
    // Fastify's types name Ajv's and fast-json-stringify's own; these stand for them.
    compilersFactory: { buildValidator, buildSerializer } as unknown as CompilersFactory,
    get pending() {
      return waiting.size;
    },
    async compileAll() {
      for (const compile of waiting) {
        // Requests that arrived meanwhile go first.
        await new Promise((done) => setImmediate(done));
        compile();
      }
    },
  };
}
