// The wall between the editor and the rest: the browser bundle takes from engine/ only the contract
// and the pure modules it already uses, never server code, and what it takes pulls no other engine
// file in at run time (type-only imports are erased, so they do not count).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const EDITOR = join(ROOT, 'editor', 'src');
const ALLOWED_ENGINE = ['engine/contract.ts', 'engine/api-format.ts', 'engine/png-metadata.ts'];

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Every module a file names: static imports and re-exports (marked when type-only) and dynamic `import()`. */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Import[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const allTypes =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (!clause.name && clause.namedBindings !== undefined && ts.isNamedImports(clause.namedBindings) && clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: allTypes });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0])) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** A relative specifier as a repository path (`engine/contract.ts`); null for packages. */
function resolveRelative(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = resolve(dirname(from), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')];
  const hit = candidates.find((c) => {
    try {
      return readFileSync(c) !== undefined;
    } catch {
      return false;
    }
  });
  return relative(ROOT, hit ?? base).split('\\').join('/');
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

describe('the contract wall', () => {
  const editorFiles = filesUnder(EDITOR);

  it('the editor imports from engine/ only the contract and the pure modules, and nothing from server/, nodes/ or cli/', () => {
    const outside: string[] = [];
    for (const file of editorFiles) {
      for (const { specifier } of importsOf(file)) {
        const target = resolveRelative(file, specifier);
        if (target === null || target.startsWith('editor/')) continue;
        if (!ALLOWED_ENGINE.includes(target)) outside.push(`${relative(ROOT, file)} -> ${target}`);
      }
    }
    expect(editorFiles.length).toBeGreaterThan(20);
    expect(outside).toEqual([]);
  });

  it('the engine modules the editor takes pull no other engine file into the bundle', () => {
    const pulled: string[] = [];
    for (const path of ALLOWED_ENGINE) {
      for (const { specifier, typeOnly } of importsOf(join(ROOT, path))) {
        const target = resolveRelative(join(ROOT, path), specifier);
        if (target !== null && !typeOnly && !ALLOWED_ENGINE.includes(target)) pulled.push(`${path} -> ${target}`);
      }
    }
    expect(pulled).toEqual([]);
  });

  it('the contract imports nothing at all', () => {
    expect(importsOf(join(ROOT, 'engine', 'contract.ts'))).toEqual([]);
  });

  it('the editor keeps no copy of the contract (link rule, run messages, workflow and catalog types)', () => {
    const copies: string[] = [];
    const definition = /^export\s+(?:interface|type|function|const)\s+(\w+)/gm;
    const contractNames = new Set([...readFileSync(join(ROOT, 'engine', 'contract.ts'), 'utf8').matchAll(definition)].map((m) => m[1]));
    for (const file of editorFiles) {
      for (const m of readFileSync(file, 'utf8').matchAll(definition)) {
        if (contractNames.has(m[1])) copies.push(`${relative(ROOT, file)}: ${m[1]}`);
      }
    }
    expect(contractNames.size).toBeGreaterThan(15);
    expect(copies).toEqual([]);
  });
});
