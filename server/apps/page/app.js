// The app page of one trigger: a form built from the trigger's OpenAPI document (its request body is
// exactly the run inputs), a Run button that calls the hook async and follows its status URL, and
// the outputs. Everything shown from the document goes through textContent, never HTML.

const slug = decodeURIComponent(location.pathname.split('/').filter(Boolean)[1] ?? '');
const hookPath = `/hooks/${encodeURIComponent(slug)}`;
const tokenKey = `picflow-app-token:${slug}`;
/** The run this tab follows, kept for the tab's life: a reload mid-run picks it up again instead of losing it. */
const runKey = `picflow-app-run:${slug}`;
const $ = (id) => document.getElementById(id);
const SLIDER_MAX_STEPS = 10_000;
const POLL_MS = 250;
const RETRY_MS = 2_000;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'dataset') Object.assign(node.dataset, value);
    else if (value !== undefined) node[key] = value;
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

function showMessage(text, details = []) {
  const box = $('message');
  box.replaceChildren(text);
  if (details.length > 0) box.append(el('ul', {}, ...details.map((d) => el('li', { textContent: d }))));
  box.hidden = false;
}

/** One form control per input, by its kind (x-picflow-input) and JSON Schema. */
function control(name, schema, initial) {
  const kind = schema['x-picflow-input'] ?? 'param';
  const id = `input-${name}`;
  const value = initial ?? schema.default;
  const label = el('label', { className: 'field', htmlFor: id }, el('span', { className: 'label', textContent: name }));
  let read;
  if (kind === 'image') {
    const file = el('input', { id, type: 'file', accept: 'image/*', dataset: { input: name } });
    label.append(file);
    read = async () => {
      if (!file.files?.[0]) return value;
      // The hook's own upload route: the trigger's token is enough, even where /api needs an API token.
      const image = file.files[0];
      const uploaded = await call(`${hookPath}/uploads`, { method: 'POST', headers: headers({ 'content-type': image.type || 'application/octet-stream' }), body: image }).catch((err) => {
        err.message = `upload of ${name} failed: ${err.message}`;
        throw err;
      });
      return uploaded.artifact;
    };
  } else if (kind === 'prompt' || kind === 'variable') {
    const area = el('textarea', { id, value: value ?? '', dataset: { input: name } });
    label.append(area);
    read = () => area.value;
  } else if (Array.isArray(schema.enum)) {
    const select = el('select', { id, dataset: { input: name } }, ...schema.enum.map((option) => el('option', { value: String(option), textContent: String(option) })));
    if (value !== undefined) select.value = String(value);
    label.append(select);
    read = () => schema.enum.find((option) => String(option) === select.value);
  } else if (schema.type === 'boolean') {
    const box = el('input', { id, type: 'checkbox', checked: value === true || value === 'true', dataset: { input: name } });
    label.append(box);
    read = () => box.checked;
  } else if (schema.type === 'integer' || schema.type === 'number') {
    const step = schema.type === 'integer' ? 1 : 'any';
    const number = el('input', { id, type: 'number', step, value: value ?? '', dataset: { input: name } });
    if (schema.minimum !== undefined) number.min = schema.minimum;
    if (schema.maximum !== undefined) number.max = schema.maximum;
    const ranged = schema.minimum !== undefined && schema.maximum !== undefined && (schema.type === 'number' || schema.maximum - schema.minimum <= SLIDER_MAX_STEPS);
    if (ranged) {
      const slider = el('input', { type: 'range', min: schema.minimum, max: schema.maximum, step: schema.type === 'integer' ? 1 : (schema.maximum - schema.minimum) / 100, value: value ?? schema.minimum });
      slider.setAttribute('aria-label', name);
      slider.addEventListener('input', () => (number.value = slider.value));
      number.addEventListener('input', () => (slider.value = number.value));
      label.append(el('span', { className: 'slider' }, slider, number));
    } else label.append(number);
    read = () => (number.value === '' ? undefined : Number(number.value));
  } else {
    const text = el('input', { id, type: 'text', value: value ?? '', dataset: { input: name } });
    label.append(text);
    read = () => text.value;
  }
  // The param's own words (`x-picflow-hint`); `description` is for API callers (node ids, upload routes).
  const hint = schema['x-picflow-hint'];
  if (hint) label.append(el('span', { className: 'hint', textContent: hint }));
  return { label, read, kind };
}

function headers(extra = {}) {
  const token = $('token').value.trim();
  return { ...extra, ...(token && { authorization: `Bearer ${token}` }) };
}

async function call(url, init) {
  const response = await fetch(url, init);
  const body = await response.json().catch(() => ({}));
  if (response.status === 401) {
    const sent = new Headers(init?.headers).has('authorization');
    throw new Error(
      sent ? 'The access token was not accepted: check it, or ask whoever shared this app for the current one.' : 'This app is protected: enter its access token above (ask whoever shared it).',
    );
  }
  if (response.status === 429) throw new Error(`Too many runs: try again in ${response.headers.get('retry-after') ?? 'a'} seconds.`);
  if (!response.ok && response.status !== 202 && !body.apiVersion) {
    const problem = new Error(body.error ?? `the server answered ${response.status}`);
    problem.details = (body.errors ?? []).map((e) => `${e.field.replace(/^inputs\./, '')}: ${e.message}`);
    throw problem;
  }
  return body;
}

function showProgress(run) {
  const progress = run.progress;
  let fraction = 0;
  let text = run.status === 'queued' ? 'Waiting in the queue…' : 'Running…';
  if (progress && progress.nodesTotal > 0) {
    const step = progress.running.find((r) => r.total > 0);
    const partial = step ? step.step / step.total : 0;
    fraction = (progress.nodesDone + partial) / progress.nodesTotal;
    if (step) text = `Running ${step.node}: step ${step.step} of ${step.total}`;
  }
  $('bar').style.width = `${Math.round(fraction * 100)}%`;
  $('status-text').textContent = text;
}

/** Shows an image of the run, read through the hook with the trigger's credentials (an <img src> could send none). */
async function loadImage(img, runId, artifact) {
  const response = await fetch(`${hookPath}/runs/${encodeURIComponent(runId)}/artifacts/${artifact}`, { headers: headers() });
  if (!response.ok) {
    showMessage(`An image could not be loaded (${response.status}).`);
    return;
  }
  img.src = URL.createObjectURL(await response.blob());
  img.addEventListener('load', () => URL.revokeObjectURL(img.src), { once: true });
}

function showValue(value, into, runId) {
  if (Array.isArray(value)) for (const item of value) showValue(item, into, runId);
  else if (value && typeof value === 'object' && typeof value.artifact === 'string') {
    const img = el('img', { alt: `${value.width}×${value.height} image`, width: value.width, height: value.height, dataset: { artifact: value.artifact } });
    into.append(img);
    void loadImage(img, runId, value.artifact);
  } else if (typeof value === 'number' && !Number.isInteger(value)) {
    // A score reads as 0.9998, not 0.9998351919906526; the exact value is the title (and the API's).
    into.append(el('div', { className: 'value', textContent: String(Number(value.toPrecision(4))), title: String(value) }));
  } else into.append(el('div', { className: 'value', textContent: typeof value === 'string' ? value : JSON.stringify(value) }));
}

function showOutputs(run) {
  const outputs = $('outputs');
  outputs.replaceChildren();
  for (const [name, output] of Object.entries(run.outputs)) {
    const section = el('section', { className: 'output', dataset: { output: name } }, el('h2', { textContent: name }));
    showValue(output.value, section, run.id);
    outputs.append(section);
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls a run to its end. The server going away (a restart) is waited out: the run is recorded there, not lost. */
async function follow(statusUrl) {
  for (;;) {
    let run;
    try {
      run = await call(statusUrl, { headers: headers() });
    } catch (err) {
      // fetch rejects with a TypeError when no answer came at all.
      if (!(err instanceof TypeError)) throw err;
      $('status-text').textContent = 'Lost contact with the server: trying again… (the run is kept there; this page picks it up when the server is back)';
      await sleep(RETRY_MS);
      continue;
    }
    if (!['queued', 'running'].includes(run.status)) return run;
    showProgress(run);
    await sleep(POLL_MS);
  }
}

/** Follows a run to its end and shows how it ended. */
async function showRun(statusUrl) {
  $('run').disabled = true;
  $('status').hidden = false;
  try {
    const run = await follow(statusUrl);
    $('bar').style.width = '100%';
    $('status-text').textContent = run.status === 'succeeded' ? `Done in ${((run.ms ?? 0) / 1000).toFixed(1)} s` : `The run ${run.status}`;
    if (run.status === 'succeeded') showOutputs(run);
    else showMessage(run.error?.message ?? `The run ${run.status}.`);
  } finally {
    sessionStorage.removeItem(runKey);
    $('run').disabled = false;
  }
}

async function start() {
  const response = await fetch(`${hookPath}/openapi.json`);
  if (!response.ok) {
    $('title').textContent = 'No such app';
    showMessage(`There is no trigger '${slug}' on this server.`);
    return;
  }
  const doc = await response.json();
  const operation = doc.paths[hookPath].post;
  const schema = operation.requestBody.content['application/json'].schema;
  document.title = doc.info.summary ?? doc.info.title;
  $('title').textContent = doc.info.summary ?? doc.info.title;
  $('description').textContent = 'Fill in the form and press Run.';
  $('api-link').href = `/api/docs?url=${encodeURIComponent(`${hookPath}/openapi.json`)}`;
  const protectedApp = (doc.security ?? []).length > 0;
  $('auth').hidden = !protectedApp;
  $('token').value = localStorage.getItem(tokenKey) ?? '';
  $('token').addEventListener('change', () => localStorage.setItem(tokenKey, $('token').value.trim()));

  const shared = new URLSearchParams(location.search);
  const controls = new Map();
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const c = control(name, property, shared.get(name) ?? undefined);
    controls.set(name, c);
    $('fields').append(c.label);
  }
  $('form').hidden = false;
  const unfinished = sessionStorage.getItem(runKey);
  if (unfinished) showRun(unfinished).catch((err) => showMessage(err.message, err.details ?? []));

  async function values() {
    const body = {};
    for (const [name, c] of controls) {
      const value = await c.read();
      if (value !== undefined) body[name] = value;
    }
    return body;
  }

  $('share').addEventListener('click', async () => {
    const link = new URL(location.pathname, location.origin);
    for (const [name, value] of Object.entries(await values())) if (controls.get(name).kind !== 'image') link.searchParams.set(name, String(value));
    await navigator.clipboard?.writeText(link.href).catch(() => undefined);
    history.replaceState(null, '', link);
    $('shared').hidden = false;
    setTimeout(() => ($('shared').hidden = true), 2000);
  });

  $('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('message').hidden = true;
    // The last run's outputs go: next to this run's error they would pass for its result.
    $('outputs').replaceChildren();
    $('run').disabled = true;
    $('status').hidden = false;
    $('bar').style.width = '0';
    $('status-text').textContent = 'Starting…';
    try {
      const accepted = await call(`${hookPath}?mode=async`, { method: 'POST', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify(await values()) });
      sessionStorage.setItem(runKey, accepted.statusUrl);
      await showRun(accepted.statusUrl);
    } catch (err) {
      $('status').hidden = true;
      if (err instanceof TypeError) showMessage('Could not reach the server: check the connection and press Run again.');
      else showMessage(err.message, err.details ?? []);
    } finally {
      $('run').disabled = false;
    }
  });
}

start().catch((err) => showMessage(`This app could not load: ${err.message}`));
