// The machine's own HTTP limit: a bare Fastify JSON endpoint, measured with the same autocannon settings.
import Fastify from 'fastify';

const port = Number(process.argv[2] ?? 8191);
const app = Fastify({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write('ready\n');
