// The workflows the benches load: the echo (a named prompt into an output, issue 16's trigger workflow, which
// bench/server.ts runs behind a sync trigger and bench/engine.ts compiles per call) and the model workflow
// bench/server.ts runs with BENCH_WORKFLOW=generate.

export const echoWorkflow = {
  version: 1,
  name: 'bench: echo',
  nodes: {
    subject: { type: 'prompt', params: { name: 'subject', text: 'a red circle' } },
    echo: { type: 'output', params: { name: 'echo' }, inputs: { value: ['subject', 'text'] } },
  },
};

export const generateWorkflow = {
  version: 1,
  name: 'bench: generate',
  nodes: {
    subject: { type: 'prompt', params: { name: 'subject', text: 'a large red circle in the center on a blue background' } },
    g: { type: 'generate', params: { seed: 0 }, inputs: { prompt: ['subject', 'text'] } },
    image: { type: 'save-image', params: { name: 'image' }, inputs: { image: ['g', 'image'] } },
  },
};
