import { closeSync, openSync, readSync } from 'node:fs';

// A hub repo cloned without Git LFS (or with GIT_LFS_SKIP_SMUDGE) holds, in place of each large file,
// a ~130-byte text pointer; onnxruntime and JSON.parse would only say they cannot parse it.
const POINTER_START = 'version https://git-lfs';

export function isLfsPointerText(text: string): boolean {
  return text.startsWith(POINTER_START);
}

/** Whether the file at `path` is a Git LFS pointer (reads its first bytes only). */
export function isLfsPointer(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(POINTER_START.length);
    return isLfsPointerText(head.toString('utf8', 0, readSync(fd, head, 0, head.length, 0)));
  } finally {
    closeSync(fd);
  }
}

/** The problem with `file` when it is a pointer, naming what to do. */
export function lfsPointerProblem(file: string, dir: string): string {
  return `${file} is a Git LFS pointer, not the file itself: run \`git lfs pull\` in ${dir} (or download the model with \`picflow models pull\`)`;
}
