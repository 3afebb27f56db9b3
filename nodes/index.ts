import { makeCatalog, type AnyNodeDefinition } from '../engine/node';
import caption from './caption';
import compare from './compare';
import edit from './edit';
import generate from './generate';
import loadImage from './load-image';
import number from './number';
import output from './output';
import preview from './preview';
import prompt from './prompt';
import resize from './resize';
import rewardScore from './reward-score';
import saveImage from './save-image';
import selectBest from './select-best';
import switchNode from './switch';
import text from './text';

/** Every node type picflow ships; the CLI, the server's catalog and the editor's palette all read this list. */
export const nodeDefinitions: AnyNodeDefinition[] = [
  prompt,
  generate,
  edit,
  caption,
  rewardScore,
  text,
  number,
  compare,
  switchNode,
  selectBest,
  loadImage,
  resize,
  saveImage,
  preview,
  output,
];

export const catalog = makeCatalog(nodeDefinitions);
