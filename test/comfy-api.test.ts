import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { catalogPorts, fromApiFormat } from '../engine/api-format';
import { decodeImage } from '../engine/image';
import { screenshot, startEditorSession } from './e2e-harness';
import { caption, heldoutSample, inspect } from './model-fixtures';
import { openGate, png, startTestServer, testCatalog, type TestServer } from './server-harness';

let t: TestServer;

beforeAll(async () => {
  // One run at a time, as ComfyUI executes prompts: queued prompts wait, so queue edits can be seen.
  t = await startTestServer({ concurrency: 1 });
});
afterAll(async () => {
  await t?.close();
});

/** A POST as Python's urllib sends one with `data=`: JSON in the body, `application/x-www-form-urlencoded` in the header. */
async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(t.url + path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

async function get(path: string) {
  const response = await fetch(t.url + path);
  return { status: response.status, body: await response.json() };
}

interface Message {
  type: string;
  data: any;
}

/** A plain WebSocket client, as ComfyUI's example clients use: JSON messages and binary preview frames, kept in order. */
async function comfySocket(clientId: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(`${t.url.replace('http', 'ws')}/ws?${new URLSearchParams({ clientId })}`, { headers });
  const messages: Message[] = [];
  const frames: Buffer[] = [];
  const waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  ws.on('message', (data: Buffer, isBinary) => {
    if (isBinary) {
      frames.push(data);
      return;
    }
    const message = JSON.parse(data.toString()) as Message;
    messages.push(message);
    for (const waiter of [...waiters]) {
      if (waiter.match(message)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    messages,
    frames,
    until(match: (m: Message) => boolean): Promise<Message> {
      const seen = messages.find(match);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
    },
    /** Until `executing` with `node: null` for this prompt: its execution is over. */
    done(promptId: string) {
      return this.until((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
    },
    /** This prompt's messages as `type` or `type node`, consecutive progress messages as one. */
    trace(promptId: string): string[] {
      const lines = messages.filter((m) => m.data.prompt_id === promptId).map((m) => (m.data.node !== undefined ? `${m.type} ${m.data.node}` : m.type));
      return lines.filter((line, i) => !(line.startsWith('progress') && lines[i - 1] === line));
    },
  };
}

/** Polls until `check` returns something (bounded: a stuck run fails the test by its timeout). */
async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const held = (gate: string) => ({ h: { class_type: 'hold', inputs: { gate } }, o: { class_type: 'output', inputs: { value: ['h', 0] } } });

describe('a ComfyUI client drives picflow', () => {
  test('queues generate → save-image in API format without a JSON content type, follows /ws to the end, reads /history and downloads PNGs that show the prompt', async () => {
    const scene = heldoutSample(3)[1];
    const prompt = {
      '6': { class_type: 'prompt', inputs: { text: caption(scene) } },
      '3': { class_type: 'generate', inputs: { seed: 11, count: 4, prompt: ['6', 0] } },
      '9': { class_type: 'save-image', inputs: { name: 'picflow', image: ['3', 0] } },
    };
    const clientId = randomUUID();
    const socket = await comfySocket(clientId);
    const queued = await post('/prompt', { prompt, client_id: clientId });
    expect(queued.status).toBe(200);
    const { prompt_id: promptId, number, node_errors } = queued.body;
    expect([typeof promptId, typeof number, node_errors]).toEqual(['string', 'number', {}]);
    await socket.done(promptId);

    expect(socket.messages[0]).toMatchObject({ type: 'status', data: { status: { exec_info: { queue_remaining: expect.any(Number) } }, sid: clientId } });
    expect(socket.trace(promptId)).toEqual([
      'execution_start',
      'executing 6',
      'executing 3',
      'progress 3',
      'executing 9',
      'executed 9',
      'execution_success',
      'executing null',
    ]);
    const progress = socket.messages.filter((m) => m.type === 'progress' && m.data.prompt_id === promptId).map((m) => m.data);
    expect(progress.at(-1)).toMatchObject({ node: '3', value: progress.at(-1).max });
    // The generator's four images, each as a preview frame: event 1, image type 2 (PNG), then the PNG.
    expect(socket.frames).toHaveLength(4);
    for (const frame of socket.frames) {
      expect([frame.readUInt32BE(0), frame.readUInt32BE(4)]).toEqual([1, 2]);
      expect(frame.subarray(8, 12).toString('latin1')).toBe('\x89PNG');
    }

    const history = (await get(`/history/${promptId}`)).body[promptId];
    expect(history.status).toMatchObject({ status_str: 'success', completed: true });
    expect(history.prompt).toEqual([number, promptId, prompt, { client_id: clientId }, ['9']]);
    const images = history.outputs['9'].images as { filename: string; subfolder: string; type: string }[];
    expect(images).toHaveLength(4);
    expect(socket.messages.find((m) => m.type === 'executed')!.data.output).toEqual(history.outputs['9']);

    const seen = [];
    for (const image of images) {
      const response = await fetch(`${t.url}/view?${new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type })}`);
      expect([response.status, response.headers.get('content-type')]).toEqual([200, 'image/png']);
      seen.push(inspect(await decodeImage(new Uint8Array(await response.arrayBuffer()))));
    }
    // The rule-based reader finds what the prompt asked for in at least one of the four.
    expect(seen).toContainEqual(expect.objectContaining({ shape: scene.shape, color: scene.color, background: scene.background }));

    // The same prompt again comes from the cache, told as ComfyUI tells it: one execution_cached, then the outputs.
    const again = (await post('/prompt', { prompt, client_id: clientId })).body.prompt_id;
    await socket.done(again);
    expect(socket.trace(again)).toEqual(['execution_start', 'execution_cached', 'executed 9', 'execution_success', 'executing null']);
    expect(socket.messages.find((m) => m.type === 'execution_cached' && m.data.prompt_id === again)!.data.nodes.sort()).toEqual(['3', '6', '9']);
    expect((await get(`/history/${again}`)).body[again].outputs).toEqual(history.outputs);
    expect(socket.frames).toHaveLength(4);

    // An ordinary picflow run: its id is the prompt id, its source `comfy-api`.
    expect((await t.api('GET', `/api/runs/${promptId}`)).body).toMatchObject({ source: 'comfy-api', status: 'succeeded' });
    expect(Object.keys((await get('/history?max_items=2')).body)).toEqual([promptId, again]);
    expect(Object.keys((await get('/history?offset=0&max_items=1')).body)).toEqual([promptId]);
    socket.ws.close();
  });

  test('/object_info describes every node; a prompt built from it (widget defaults, links by output index) is accepted and runs', async () => {
    const info = (await get('/object_info')).body;
    expect(Object.keys(info).sort()).toEqual([...testCatalog.keys()].sort());
    expect(info.generate.input.required.seed).toEqual(['INT', { default: 0, min: 0, max: 2 ** 32 - 1, step: 1 }]);
    expect(info.generate.input.required.prompt).toEqual(['STRING', { forceInput: true }]);
    expect(info.generate.input.optional.topP[1]).toMatchObject({ min: 0.01, max: 1 });
    expect(info.resize.input.required.fit).toEqual([['fill', 'contain', 'cover'], { default: 'fill' }]);
    expect(info['select-best']).toMatchObject({ output: ['*', 'FLOAT', 'FLOAT'], output_name: ['best', 'score', 'index'], output_is_list: [false, false, false] });
    expect(info['save-image']).toMatchObject({ output_node: true, category: 'output', output: [] });
    expect((await get('/api/object_info/generate')).body).toEqual({ generate: info.generate });
    expect((await get('/object_info/KSampler')).body).toEqual({});

    // A client's builder: required widgets take their defaults; a required link takes the first
    // node type (in /object_info order) with an output of that type, by its index; a node that is
    // not an output gets the first output node that takes its first output's type (exactly, else at all).
    const accepts = (wanted: string, offered: string) => wanted === offered || wanted === '*' || offered === '*';
    function add(prompt: Record<string, any>, type: string): string {
      const inputs: Record<string, unknown> = {};
      for (const [name, [kind, options]] of Object.entries(info[type].input.required) as [string, [unknown, any]][]) {
        if (Array.isArray(kind)) inputs[name] = options.default ?? kind[0];
        else if (options.default !== undefined) inputs[name] = options.default;
        else {
          const source = Object.keys(info).find((s) => !info[s].output_node && info[s].output.some((o: string) => accepts(kind as string, o)))!;
          inputs[name] = [add(prompt, source), info[source].output.findIndex((o: string) => accepts(kind as string, o))];
        }
      }
      const id = String(Object.keys(prompt).length + 1);
      prompt[id] = { class_type: type, inputs };
      return id;
    }
    // ComfyUI's LoadImage names a file uploaded first; picflow's load-image takes the uploaded name as its `artifact`.
    const form = new FormData();
    form.append('image', new Blob([Uint8Array.from(await png(16, 16))]), 'in.png');
    const uploaded = (await fetch(`${t.url}/upload/image`, { method: 'POST', body: form }).then((r) => r.json())) as { name: string };

    openGate('default');
    const clientId = randomUUID();
    const socket = await comfySocket(clientId);
    const queued: string[] = [];
    for (const type of Object.keys(info)) {
      const prompt: Record<string, any> = {};
      const id = add(prompt, type);
      if (type === 'load-image') prompt[id].inputs.artifact = uploaded.name;
      // ...and, as any client does, writes its text into the prompt nodes (the model refuses an empty prompt).
      for (const node of Object.values(prompt)) if (node.class_type === 'prompt') node.inputs.text = 'a large red circle';
      if (!info[type].output_node) {
        const first = info[type].output[0];
        const takes = (s: string) => Object.values(info[s].input.required as Record<string, any>)[0]?.[0];
        const sinks = Object.keys(info).filter((s) => info[s].output_node);
        const sink = sinks.find((s) => takes(s) === first) ?? sinks.find((s) => accepts(takes(s), first))!;
        prompt[String(Object.keys(prompt).length + 1)] = { class_type: sink, inputs: { [info[sink].input_order.required[0]]: [id, 0] } };
      }
      const reply = await post('/prompt', { prompt, client_id: clientId });
      expect(reply, `${type}: ${JSON.stringify(prompt)}`).toMatchObject({ status: 200, body: { node_errors: {} } });
      queued.push(reply.body.prompt_id);
    }
    for (const promptId of queued) await socket.done(promptId);
    const ends = queued.map((id) => socket.messages.find((m) => m.data.prompt_id === id && /^execution_(success|error)$/.test(m.type))!);
    // Only the switch fails, at run time: its condition (0 >= 0) chooses `true`, which the builder left unconnected.
    expect(ends.filter((m) => m.type === 'execution_error').map((m) => m.data.node_type)).toEqual(['switch']);
    socket.ws.close();
  });

  test('an unknown class_type, a bad param and a dangling link each come back in node_errors under their node id, with a 400', async () => {
    const reply = await post('/prompt', {
      prompt: {
        k: { class_type: 'KSampler', inputs: { seed: 1 } },
        p: { class_type: 'prompt', inputs: { text: 'a red circle' } },
        g: { class_type: 'generate', inputs: { seed: -1, prompt: ['p', 0] } },
        s: { class_type: 'save-image', inputs: { image: ['gone', 0] } },
        out: { class_type: 'save-image', inputs: { image: ['g', 0] } },
      },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatchObject({ type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation' });
    const errors = reply.body.node_errors;
    expect(Object.keys(errors).sort()).toEqual(['g', 'k', 's']);
    expect(errors.k).toMatchObject({ class_type: 'KSampler', errors: [{ type: 'invalid_prompt', message: "unknown node type 'KSampler'" }] });
    expect(errors.g).toMatchObject({ class_type: 'generate', dependent_outputs: ['out'], errors: [{ type: 'invalid_input_type', extra_info: { input_name: 'seed' } }] });
    expect(errors.s).toMatchObject({ class_type: 'save-image', dependent_outputs: ['s'], errors: [{ type: 'bad_linked_input', message: "links to missing node 'gone'", extra_info: { input_name: 'image' } }] });

    expect(await post('/prompt', { client_id: 'x' })).toMatchObject({ status: 400, body: { error: { type: 'no_prompt' }, node_errors: {} } });
    const cycle = { a: { class_type: 'text', inputs: { a: ['b', 0] } }, b: { class_type: 'text', inputs: { a: ['a', 0] } }, o: { class_type: 'output', inputs: { value: ['a', 0] } } };
    expect(Object.values((await post('/prompt', { prompt: cycle })).body.node_errors)).toEqual([expect.objectContaining({ errors: [expect.objectContaining({ message: expect.stringMatching(/^cycle: /) })] })]);
    expect((await post('/prompt', '{"prompt": ')).status).toBe(400);
    expect((await post('/api/prompt', { prompt: { n: { class_type: 'number' } } })).body.error).toMatchObject({ type: 'prompt_no_outputs' });
    // Hostile names as ids (a node id of `__proto__` is the engine's to refuse or run: see its hostile-input tests).
    const hostile = await post('/prompt', JSON.parse('{"prompt": {"toString": {"class_type": "prompt", "inputs": {"text": "hi"}}, "constructor": {"class_type": "output", "inputs": {"value": ["toString", 0]}}}, "prompt_id": "__proto__"}'));
    expect(hostile).toMatchObject({ status: 200, body: { prompt_id: '__proto__' } });
    expect(await post('/prompt', { prompt: held('unused'), prompt_id: '__proto__' })).toMatchObject({ status: 400, body: { error: { message: "prompt_id '__proto__' is already taken" } } });
    const history = await eventually(async () => {
      const body = (await get('/history/__proto__')).body;
      return Object.hasOwn(body, '__proto__') ? body : undefined;
    });
    expect(Object.keys(history)).toEqual(['__proto__']);
    expect(history.__proto__.outputs.constructor).toEqual({ text: ['hi'] });
    // The server stays up and keeps serving.
    expect((await get('/queue')).status).toBe(200);
  });

  test('a prompt with some outputs valid runs those, as ComfyUI does, and lists what kept the others out; none valid is a 400', async () => {
    const prompt = {
      p: { class_type: 'prompt', inputs: { text: 'partly' } },
      good: { class_type: 'output', inputs: { value: ['p', 0] } },
      g: { class_type: 'generate', inputs: { seed: -1, prompt: ['p', 0] } },
      bad: { class_type: 'save-image', inputs: { image: ['g', 0] } },
    };
    const reply = await post('/prompt', { prompt });
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body.node_errors)).toEqual(['g']);
    expect(reply.body.node_errors.g).toMatchObject({ class_type: 'generate', dependent_outputs: ['bad'], errors: [{ type: 'invalid_input_type', extra_info: { input_name: 'seed' } }] });
    const id = reply.body.prompt_id;
    const history = await eventually(async () => {
      const entry = (await get(`/history/${id}`)).body[id];
      return entry?.status?.completed ? entry : undefined;
    });
    expect(Object.keys(history.outputs)).toEqual(['good']);
    expect(history.outputs.good).toEqual({ text: ['partly'] });

    // No output valid: refused whole, as before.
    const none = await post('/prompt', { prompt: { p: prompt.p, g: prompt.g, bad: prompt.bad } });
    expect(none.status).toBe(400);
    expect(none.body.error.type).toBe('prompt_outputs_failed_validation');
  });

  test('queue delete and interrupt act on the right prompt; a client that disconnects mid-run does not affect the run', async () => {
    const clientId = randomUUID();
    const socket = await comfySocket(clientId);
    const queue = (prompt: object, promptId?: string) => post('/prompt', { prompt, client_id: clientId, ...(promptId && { prompt_id: promptId }) }).then((r) => r.body.prompt_id as string);
    const a = await queue(held('A'), 'prompt-a');
    const b = await queue(held('B'));
    const c = await queue(held('C'));
    await socket.until((m) => m.type === 'executing' && m.data.prompt_id === a && m.data.node === 'h');
    const ids = async () => {
      const { queue_running: running, queue_pending: pending } = (await get('/queue')).body;
      return { running: running.map((item: unknown[]) => item[1]), pending: pending.map((item: unknown[]) => item[1]) };
    };
    expect(await ids()).toEqual({ running: [a], pending: [b, c] });

    expect((await post('/queue', { delete: [c] })).status).toBe(200);
    expect(await ids()).toEqual({ running: [a], pending: [b] });
    expect((await t.api('GET', `/api/runs/${c}`)).body.status).toBe('cancelled');
    expect((await get(`/history/${c}`)).body).toEqual({});

    // A prompt id that is not running is not interrupted.
    await post('/interrupt', { prompt_id: b });
    expect(await ids()).toEqual({ running: [a], pending: [b] });
    await post('/api/interrupt', { prompt_id: a });
    await socket.done(a);
    expect(socket.trace(a)).toEqual(['execution_start', 'executing h', 'execution_interrupted', 'executing null']);
    // As in ComfyUI, the interruption names the node it cut short, live and in /history.
    const interrupted = { prompt_id: a, node_id: 'h', node_type: 'hold', executed: [] };
    expect(socket.messages.find((m) => m.type === 'execution_interrupted')!.data).toMatchObject(interrupted);
    const stopped = (await get(`/history/${a}`)).body[a].status;
    expect(stopped).toMatchObject({ status_str: 'error', completed: false });
    expect(stopped.messages.at(-1)).toEqual(['execution_interrupted', expect.objectContaining(interrupted)]);

    await socket.until((m) => m.type === 'executing' && m.data.prompt_id === b && m.data.node === 'h');
    socket.ws.terminate();
    openGate('B');
    const history = await eventually(async () => (await get(`/history/${b}`)).body[b]);
    expect(history).toMatchObject({ status: { status_str: 'success' }, outputs: { o: { number: [1] } } });

    // A client that comes back under its id is told, after the status, the node its prompt executes (as
    // ComfyUI tells it), then hears the rest of its prompts.
    const again = await comfySocket(clientId);
    const e = await queue(held('E'));
    await again.until((m) => m.type === 'executing' && m.data.prompt_id === e && m.data.node === 'h');
    again.ws.terminate();
    const back = await comfySocket(clientId);
    await back.until((m) => m.type === 'executing');
    expect(back.messages.slice(0, 2)).toEqual([
      { type: 'status', data: { status: { exec_info: { queue_remaining: 1 } }, sid: clientId } },
      { type: 'executing', data: { node: 'h', display_node: 'h', prompt_id: e } },
    ]);
    openGate('E');
    await back.done(e);
    expect(back.trace(e)).toEqual(['executing h', 'executing o', 'executed o', 'execution_success', 'executing null']);
    back.ws.close();

    // With no prompt id (and no body at all), whatever runs now is interrupted.
    const d = await post('/prompt', { prompt: held('D') }).then((r) => r.body.prompt_id);
    await eventually(async () => ((await ids()).running.includes(d) ? true : undefined));
    const bare = await fetch(`${t.url}/interrupt`, { method: 'POST' });
    expect(bare.status).toBe(200);
    expect((await eventually(async () => (await get(`/history/${d}`)).body[d])).status.messages.at(-1)[0]).toBe('execution_interrupted');
  });

  test('an uploaded image is named by /upload/image, read by load-image and served back by /view', async () => {
    const bytes = await png(16, 16, { r: 20, g: 200, b: 40 });
    const form = new FormData();
    form.append('image', new Blob([Uint8Array.from(bytes)]), 'green.png');
    form.append('subfolder', 'mine');
    const uploaded = await fetch(`${t.url}/api/upload/image`, { method: 'POST', body: form }).then((r) => r.json());
    expect(uploaded).toEqual({ name: createHash('sha256').update(bytes).digest('hex'), subfolder: 'mine', type: 'input' });
    const served = await fetch(`${t.url}/view?filename=${uploaded.name}&subfolder=mine&type=input`);
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);

    const clientId = randomUUID();
    const socket = await comfySocket(clientId);
    const { prompt_id: promptId } = (
      await post('/prompt', {
        prompt: {
          l: { class_type: 'load-image', inputs: { artifact: uploaded.name } },
          r: { class_type: 'resize', inputs: { width: 8, height: 4, image: ['l', 0] } },
          s: { class_type: 'preview', inputs: { image: ['r', 0] } },
        },
        client_id: clientId,
      })
    ).body;
    await socket.done(promptId);
    const [image] = (await get(`/history/${promptId}`)).body[promptId].outputs.s.images;
    expect(image.type).toBe('temp');
    const view = await fetch(`${t.url}/view?filename=${image.filename}&type=temp`);
    expect(await sharp(Buffer.from(await view.arrayBuffer())).metadata()).toMatchObject({ width: 8, height: 4 });
    expect((await fetch(`${t.url}/view?filename=..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
    socket.ws.close();

    // A subfolder that leaves the upload folder is refused, as ComfyUI refuses it.
    // ComfyUI reads the image from the field `image` only; a file under another name is a 400.
    const misnamed = new FormData();
    misnamed.append('file', new Blob([Uint8Array.from(bytes)]), 'green.png');
    const unread = await fetch(`${t.url}/upload/image`, { method: 'POST', body: misnamed });
    expect([unread.status, await unread.json()]).toEqual([400, { error: 'send one image as multipart/form-data (field `image`)' }]);
    for (const subfolder of ['../../etc', '/etc', 'a/../../b', '..\\..\\windows']) {
      const hostile = new FormData();
      hostile.append('image', new Blob([Uint8Array.from(await png(8, 8, { r: 1, g: 2, b: 3 }))]), 'x.png');
      hostile.append('subfolder', subfolder);
      const refused = await fetch(`${t.url}/upload/image`, { method: 'POST', body: hostile });
      expect([refused.status, await refused.json()], subfolder).toEqual([400, { error: 'invalid upload fields', errors: [{ node: null, field: 'subfolder', message: 'must stay inside the upload folder (no leading / and no .. above it)' }] }]);
    }
  });

  test('POST /api/runs takes the API format too, and names a conversion problem by node and field', async () => {
    const prompt = { n: { class_type: 'number', inputs: { value: 2 } }, out: { class_type: 'output', inputs: { name: 'two', value: ['n', 0] } } };
    const run = await t.api('POST', '/api/runs', { workflow: prompt, wait: true });
    expect(run.body).toMatchObject({ status: 'succeeded', source: 'api', outputs: { two: { value: 2 } } });
    expect(run.body.workflow.nodes.out).toEqual({ type: 'output', params: { name: 'two' }, inputs: { value: ['n', 'number'] } });
    const bad = await t.api('POST', '/api/runs', { workflow: { ...prompt, out: { class_type: 'output', inputs: { value: ['n', 1] } } } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ node: 'out', field: 'inputs.value', message: "node 'n' has no output 1 (outputs: 0: number)" }]);
  });

  test('any clientId, as ComfyUI takes it (dots, colons, spaces, hostile names), hears its prompts; so does one named only in extra_data', async () => {
    const echo = { t: { class_type: 'prompt', inputs: { text: 'hi' } }, o: { class_type: 'output', inputs: { value: ['t', 0] } } };
    for (const clientId of ['user@host:8188/tab 1.é', '__proto__', 'constructor']) {
      const socket = await comfySocket(clientId);
      expect((await socket.until((m) => m.type === 'status')).data.sid).toBe(clientId);
      const { prompt_id: promptId } = (await post('/prompt', { prompt: echo, client_id: clientId })).body;
      expect((await socket.done(promptId)).data.node).toBeNull();
      socket.ws.close();
    }
    // ComfyUI's executor reads the client from extra_data, which is where some clients put it.
    const socket = await comfySocket('in-extra-data');
    const { prompt_id: promptId } = (await post('/prompt', { prompt: echo, extra_data: { client_id: 'in-extra-data' } })).body;
    await socket.done(promptId);
    socket.ws.close();
    // An id /prompt would refuse as client_id is refused at the upgrade, saying why.
    await expect(comfySocket('x'.repeat(129))).rejects.toThrow(/400/);
  });

  test('prompts sent at once with the same prompt_id: one is queued, the others are refused', async () => {
    const promptId = `same-${randomUUID()}`;
    const replies = await Promise.all([1, 2, 3].map(() => post('/prompt', { prompt: held('same'), prompt_id: promptId })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 400, 400]);
    expect(replies.filter((r) => r.status === 400).map((r) => r.body.error.message)).toEqual([`prompt_id '${promptId}' is already taken`, `prompt_id '${promptId}' is already taken`]);
    openGate('same');
    expect((await eventually(async () => (await get(`/history/${promptId}`)).body[promptId])).status.status_str).toBe('success');
  });

  test("validation errors use ComfyUI's types: an input left out is required_input_missing; a node the conversion refused keeps its class_type and dependents", async () => {
    const reply = await post('/prompt', {
      prompt: {
        k: { class_type: 'KSampler', inputs: {} },
        p: { class_type: 'prompt', inputs: null },
        o: { class_type: 'output', inputs: { value: ['p', 0] } },
        s: { class_type: 'save-image', inputs: {} },
      },
    });
    expect(reply.status).toBe(400);
    const errors = reply.body.node_errors;
    // `o` links to `p`, whose inputs are malformed: that is `p`'s error, and `o` has none of its own.
    expect(Object.keys(errors).sort()).toEqual(['k', 'p', 's']);
    // An unknown class is about the node, not one of its inputs.
    expect(errors.k.errors).toEqual([expect.objectContaining({ type: 'invalid_prompt', extra_info: {} })]);
    expect(errors.p).toMatchObject({ class_type: 'prompt', dependent_outputs: ['o'], errors: [{ type: 'invalid_prompt' }] });
    expect(errors.s).toMatchObject({ class_type: 'save-image', errors: [{ type: 'required_input_missing', extra_info: { input_name: 'image' } }] });
    expect(await post('/prompt', {})).toMatchObject({ status: 400, body: { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided' } } });
    // A client_id of null is no client, as in ComfyUI.
    expect((await post('/prompt', { prompt: { n: { class_type: 'number', inputs: { value: 1 } }, o: { class_type: 'output', inputs: { value: ['n', 0] } } }, client_id: null })).status).toBe(200);
  });

  test('number is read as ComfyUI reads it (a number or a string of one) and echoed in /queue', async () => {
    const reply = await post('/prompt', { prompt: held('numbered'), number: '12.5' });
    expect(reply).toMatchObject({ status: 200, body: { number: 12.5 } });
    const item = await eventually(async () => {
      const { queue_running: running, queue_pending: pending } = (await get('/queue')).body;
      return [...running, ...pending].find((i: unknown[]) => i[1] === reply.body.prompt_id);
    });
    expect(item[0]).toBe(12.5);
    openGate('numbered');
    expect((await post('/prompt', { prompt: held('never'), number: 'soon' })).body.error.details).toBe('number: Invalid input: expected number, received string');
  });

  test('the same-origin protection covers the ComfyUI routes and /ws; a client on this machine works', async () => {
    expect((await post('/prompt', { prompt: held('never') }, { origin: 'http://evil.example' })).status).toBe(403);
    await expect(comfySocket('evil', { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    const local = await comfySocket('local', { origin: t.url });
    expect((await local.until((m) => m.type === 'status')).data.sid).toBe('local');
    local.ws.close();
  });

  test("POST /history's clear and delete take prompts out of /history, not out of picflow's runs", async () => {
    const echo = { t: { class_type: 'prompt', inputs: { text: 'hi' } }, o: { class_type: 'output', inputs: { value: ['t', 0] } } };
    const ran = async () => {
      const promptId: string = (await post('/prompt', { prompt: echo })).body.prompt_id;
      await eventually(async () => (await get(`/history/${promptId}`)).body[promptId]);
      return promptId;
    };
    const [x, y] = [await ran(), await ran()];
    expect((await post('/history', { delete: [x] })).status).toBe(200);
    const listed = Object.keys((await get('/history')).body);
    expect([listed.includes(x), listed.includes(y)]).toEqual([false, true]);
    expect((await get(`/history/${x}`)).body).toEqual({});
    expect((await t.api('GET', `/api/runs/${x}`)).body.status).toBe('succeeded');

    expect((await post('/api/history', { clear: true })).status).toBe(200);
    expect((await get('/history')).body).toEqual({});
    expect((await t.api('GET', `/api/runs/${y}`)).body.status).toBe('succeeded');
    // A prompt that runs after the clear is listed.
    const z = await ran();
    expect(Object.keys((await get('/history')).body)).toEqual([z]);
  });

  test('system, extension and queue status routes answer as ComfyUI does; unknown paths get a JSON 404', async () => {
    expect((await get('/system_stats')).body).toMatchObject({ system: { comfyui_version: expect.any(String) }, devices: [{ type: expect.stringMatching(/^(cpu|cuda)$/) }] });
    expect((await get('/api/embeddings')).body).toEqual([]);
    expect((await get('/extensions')).body).toEqual([]);
    expect((await get('/prompt')).body).toEqual({ exec_info: { queue_remaining: 0 } });
    expect(await get('/models/checkpoints')).toEqual({ status: 404, body: { error: 'no such endpoint: GET /models/checkpoints' } });
    expect((await get('/ws')).status).toBe(404);
  });
});

describe("the editor's Export (API)", () => {
  test('downloads the open workflow in API format, which /prompt accepts and which converts back to the same nodes', async () => {
    const session = await startEditorSession();
    try {
      const workflow = JSON.parse(await readFile(new URL('../workflows/generate-caption-score.json', import.meta.url), 'utf8'));
      const saved = await session.server.api('POST', '/api/workflows', workflow);
      const page = await session.open(`/?workflow=${saved.body.id}`);
      await page.waitForSelector('[data-testid="node-g"]');
      const [file] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-api-button]')]);
      expect(file.suggestedFilename()).toBe('generate-caption-score.api.json');
      const prompt = JSON.parse(await readFile(await file.path(), 'utf8'));
      await screenshot(page, 'export-api');

      expect(prompt.g).toEqual({ class_type: 'generate', inputs: { seed: 7, count: 1, prompt: ['p', 0] } });
      const back = fromApiFormat(prompt, catalogPorts(testCatalog));
      const withoutUi = Object.fromEntries(Object.entries(workflow.nodes as Record<string, object>).map(([id, { ui: _ui, ...node }]: [string, any]) => [id, node]));
      expect(JSON.parse(JSON.stringify(back.workflow.nodes))).toEqual(withoutUi);
      const queued = await fetch(`${session.server.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt }) });
      expect([queued.status, (await queued.json()).node_errors]).toEqual([200, {}]);
    } finally {
      await session.close();
    }
  });
});
