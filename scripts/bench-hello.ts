/** The baseline of `npm run bench`: a bare Fastify server answering a tiny JSON, on PORT. */
import Fastify from 'fastify';

const app = Fastify();
app.get('/', () => ({ hello: 'world' }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
