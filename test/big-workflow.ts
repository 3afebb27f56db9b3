// A large workflow for the editor's browser test and bench/editor.ts.

/**
 * 300 nodes and 300 links: 50 text chains (prompt → join → join → output) and 25 logic chains
 * (number → compare → switch, fed a prompt → output), laid out in a grid.
 */
export function bigWorkflow() {
  const nodes: Record<string, unknown> = {};
  let links = 0;
  for (let i = 0; i < 50; i++) {
    const x = (i % 5) * 1300;
    const y = Math.floor(i / 5) * 320;
    nodes[`p${i}`] = { type: 'prompt', params: { text: `subject ${i}` }, ui: { x, y } };
    nodes[`a${i}`] = { type: 'text', params: { separator: ', ' }, inputs: { a: [`p${i}`, 'text'] }, ui: { x: x + 300, y } };
    nodes[`b${i}`] = { type: 'text', inputs: { a: [`a${i}`, 'text'], b: [`p${i}`, 'text'] }, ui: { x: x + 600, y } };
    nodes[`o${i}`] = { type: 'output', params: { name: `out${i}` }, inputs: { value: [`b${i}`, 'text'] }, ui: { x: x + 900, y } };
    links += 4;
  }
  for (let i = 0; i < 25; i++) {
    const x = (i % 5) * 1300;
    const y = 3300 + Math.floor(i / 5) * 320;
    nodes[`n${i}`] = { type: 'number', params: { value: i }, ui: { x, y } };
    nodes[`c${i}`] = { type: 'compare', params: { op: '>=', value: 10 }, inputs: { a: [`n${i}`, 'number'] }, ui: { x: x + 300, y } };
    nodes[`s${i}`] = { type: 'switch', inputs: { condition: [`c${i}`, 'result'], true: [`p${i}`, 'text'] }, ui: { x: x + 600, y } };
    nodes[`v${i}`] = { type: 'output', params: { name: `ok${i}` }, inputs: { value: [`s${i}`, 'value'] }, ui: { x: x + 900, y } };
    links += 4;
  }
  return { workflow: { version: 1 as const, name: 'bench 300 nodes', nodes }, links };
}
