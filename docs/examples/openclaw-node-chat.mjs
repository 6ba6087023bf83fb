// Chat with Pincer from Node.js through openclaw-node. Works on Node 20, which has no global WebSocket:
// openclaw-node then needs one, and `ws` provides it.
//   npm install openclaw-node ws
//   PINCER_TOKEN="$(pincer token)" node openclaw-node-chat.mjs "hello"
import WebSocket from 'ws';

globalThis.WebSocket ??= WebSocket;
const { OpenClawClient } = await import('openclaw-node');

const client = new OpenClawClient({
  url: process.env.PINCER_URL ?? 'ws://127.0.0.1:18789',
  token: process.env.PINCER_TOKEN,
  autoReconnect: false,
});
client.on('error', (error) => console.error('openclaw-node:', error.message));
await client.connect();
for await (const chunk of client.chat(process.argv[2] ?? 'hello')) {
  if (chunk.type === 'text') process.stdout.write(chunk.text);
}
process.stdout.write('\n');
await client.disconnect();
