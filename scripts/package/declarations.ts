/**
 * Makes the package's declarations stand alone. tsc emits them next to the built JavaScript,
 * but some of them name types of modules that do not ship: the zod schemas the API's bodies and
 * the settings are written in (`z.infer<typeof MfaStatusResponse>`), and plain types of
 * functions/ and web/ (`RouteAccess`, `WebClientConfig`). A consumer has neither zod nor those
 * files, so each such reference is replaced by the type it stands for, spelled out:
 * - a type alias naming them gets, as its right-hand side, the structure of the same alias in
 *   the sources (with the properties' doc comments);
 * - any other use of an imported plain type gets a local alias spelling it out.
 * Anything else that still names them (a zod schema, the route table) is an internal of this
 * repository: it must be marked `@internal` (stripped by tsc's `stripInternal`), or the build fails
 * here, naming it. Declarations no entry point reaches are removed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface DeclarationOptions {
  /** The repository root: sources are found at the same relative paths as their declarations in `outDir`. */
  root: string;
  outDir: string;
  /** Declaration files of the entry points, under `outDir`. */
  entries: string[];
  /** Folders (relative to `outDir`) whose declarations ship. */
  shipped: string[];
  /** Packages a consumer has (dependencies and peers); any other package's types are spelled out. */
  packages: string[];
  compilerOptions: ts.CompilerOptions;
}

export function makeDeclarationsStandAlone(options: DeclarationOptions): { files: string[] } {
  const sources = options.entries.map((entry) => join(options.root, relative(options.outDir, entry).replace(/\.d\.ts$/, '.ts')));
  const program = ts.createProgram(sources, { ...options.compilerOptions, noEmit: true });
  const checker = program.getTypeChecker();
  const isShipped = (file: string) => options.shipped.some((folder) => resolve(file).startsWith(resolve(options.outDir, folder) + '/'));

  const reached = new Set<string>();
  const queue = [...options.entries.map((entry) => resolve(entry))];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (reached.has(file)) continue;
    reached.add(file);
    const rewritten = rewrite(file);
    writeFileSync(file, rewritten.text);
    queue.push(...rewritten.imports);
  }
  for (const folder of options.shipped) removeUnreached(resolve(options.outDir, folder), reached);
  return { files: [...reached].sort() };

  function rewrite(file: string): { text: string; imports: string[] } {
    const text = readFileSync(file, 'utf8');
    const declaration = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const source = program.getSourceFile(join(options.root, relative(options.outDir, file).replace(/\.d\.ts$/, '.ts')));
    if (!source) throw new Error(`No source for the declarations ${file}.`);

    /** Names this file imports from modules that do not ship, to the import declaration. */
    const foreign = new Map<string, ts.ImportDeclaration>();
    const imports: string[] = [];
    for (const statement of declaration.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
      const specifier = statement.moduleSpecifier && ts.isStringLiteral(statement.moduleSpecifier) ? statement.moduleSpecifier.text : undefined;
      if (specifier === undefined) continue;
      const local = specifier.startsWith('.') ? resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts')) : undefined;
      const ships = local ? isShipped(local) : options.packages.some((name) => specifier === name || specifier.startsWith(`${name}/`));
      if (ships) {
        if (local) imports.push(local);
        continue;
      }
      if (ts.isExportDeclaration(statement)) throw new Error(`${file}: re-exports from ${specifier}, which does not ship.`);
      for (const name of importedNames(statement)) foreign.set(name, statement);
    }
    // A type tsc inferred may name a module in place: `import("../functions/x.js").Thing`.
    const visitImportTypes = (node: ts.Node, statement: ts.Statement): void => {
      if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
        const specifier = node.argument.literal.text;
        const local = specifier.startsWith('.') ? resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts')) : undefined;
        const ships = local ? isShipped(local) : options.packages.some((name) => specifier === name || specifier.startsWith(`${name}/`));
        if (!ships) throw new Error(`${file}: ${firstLine(statement)} names ${specifier}, which does not ship; give it a type of its own or mark it @internal.`);
      }
      ts.forEachChild(node, (child) => visitImportTypes(child, statement));
    };
    for (const statement of declaration.statements) visitImportTypes(statement, statement);
    if (foreign.size === 0) return { text, imports };

    const edits: { start: number; end: number; text: string }[] = [];
    const aliases = new Map<string, string>();
    for (const statement of declaration.statements) {
      if (ts.isImportDeclaration(statement)) {
        if ([...foreign.values()].includes(statement)) edits.push({ start: statement.getStart(), end: statement.getEnd(), text: '' });
        continue;
      }
      const used = foreignNamesIn(statement, foreign);
      if (used.size === 0) continue;
      if (ts.isTypeAliasDeclaration(statement)) {
        const original = source.statements.filter(ts.isTypeAliasDeclaration).find((candidate) => candidate.name.text === statement.name.text);
        if (!original) throw new Error(`${file}: no type alias ${statement.name.text} in ${source.fileName}.`);
        edits.push({ start: statement.type.getStart(), end: statement.type.getEnd(), text: spellOut(checker.getTypeAtLocation(original.name), checker) });
        continue;
      }
      // A type written in place (`body: z.infer<typeof ConfirmEnrollmentRequest>`): spelled out
      // from the same type node of the source.
      for (const node of outermostTypeNodesUsing(statement, foreign)) {
        const original = findTypeNode(source, node.getText());
        if (!original) continue;
        edits.push({ start: node.getStart(), end: node.getEnd(), text: spellOut(checker.getTypeFromTypeNode(original), checker) });
        for (const name of foreignNamesIn(node, foreign)) used.delete(name);
      }
      for (const name of used) {
        if (aliases.has(name)) continue;
        const symbol = importedSymbol(source, name, checker);
        const isPlainType = symbol && symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias) && !(symbol.flags & ts.SymbolFlags.Value);
        if (!isPlainType) throw new Error(`${file}: ${firstLine(statement)} uses ${name}, which does not ship; mark it @internal.`);
        aliases.set(name, `type ${name} = ${spellOut(checker.getDeclaredTypeOfSymbol(symbol), checker)};\n`);
      }
    }
    edits.sort((a, b) => b.start - a.start);
    let result = text;
    for (const edit of edits) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end);
    const spelled = [...aliases.values()].join('');
    const check = ts.createSourceFile(file, result, ts.ScriptTarget.Latest, true);
    for (const statement of check.statements) {
      for (const name of foreignNamesIn(statement, foreign)) {
        if (!aliases.has(name)) throw new Error(`${file}: ${firstLine(statement)} still uses ${name}, which does not ship; mark it @internal.`);
      }
    }
    // Re-printed: the spelled-out types come indented like tsc's own output.
    const printed = ts.createPrinter().printFile(ts.createSourceFile(file, spelled + result, ts.ScriptTarget.Latest, true));
    return { text: printed, imports };
  }
}

function importedNames(statement: ts.ImportDeclaration): string[] {
  const clause = statement.importClause;
  if (!clause) return [];
  const names = clause.name ? [clause.name.text] : [];
  const bindings = clause.namedBindings;
  if (bindings && ts.isNamespaceImport(bindings)) names.push(bindings.name.text);
  if (bindings && ts.isNamedImports(bindings)) names.push(...bindings.elements.map((element) => element.name.text));
  return names;
}

function foreignNamesIn(node: ts.Node, foreign: Map<string, unknown>): Set<string> {
  const found = new Set<string>();
  const visit = (child: ts.Node): void => {
    if (ts.isIdentifier(child) && foreign.has(child.text)) {
      const parent = child.parent;
      const isMemberName = parent && (ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && (parent as { name?: ts.Node }).name === child;
      const isDeclaredName = parent && 'name' in parent && (parent as { name?: ts.Node }).name === child && !ts.isTypeReferenceNode(parent);
      if (!isMemberName && !isDeclaredName) found.add(child.text);
    }
    ts.forEachChild(child, visit);
  };
  visit(node);
  return found;
}

/** Type references and `typeof` queries naming a foreign name, not inside another such node. */
function outermostTypeNodesUsing(node: ts.Node, foreign: Map<string, unknown>): ts.TypeNode[] {
  const found: ts.TypeNode[] = [];
  const visit = (child: ts.Node): void => {
    if ((ts.isTypeReferenceNode(child) || ts.isTypeQueryNode(child) || ts.isIndexedAccessTypeNode(child)) && foreignNamesIn(child, foreign).size > 0) {
      found.push(child);
      return;
    }
    ts.forEachChild(child, visit);
  };
  visit(node);
  return found;
}

function findTypeNode(source: ts.SourceFile, text: string): ts.TypeNode | undefined {
  let found: ts.TypeNode | undefined;
  const visit = (child: ts.Node): void => {
    if (found) return;
    if (ts.isTypeNode(child) && child.getText(source) === text) {
      found = child;
      return;
    }
    ts.forEachChild(child, visit);
  };
  visit(source);
  return found;
}

function importedSymbol(source: ts.SourceFile, name: string, checker: ts.TypeChecker): ts.Symbol | undefined {
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !statement.importClause?.namedBindings || !ts.isNamedImports(statement.importClause.namedBindings)) continue;
    const element = statement.importClause.namedBindings.elements.find((candidate) => candidate.name.text === name);
    if (!element) continue;
    const symbol = checker.getSymbolAtLocation(element.name);
    return symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  }
  return undefined;
}

/** A data type (what zod infers, plain interfaces and unions) written out with no name of its module. */
export function spellOut(type: ts.Type, checker: ts.TypeChecker, depth = 0): string {
  if (depth > 20) throw new Error(`Type too deep to spell out: ${checker.typeToString(type)}`);
  const next = (inner: ts.Type) => spellOut(inner, checker, depth + 1);
  if (type.isUnion()) return spellOutUnion(type.types, next);
  if (type.isIntersection()) return type.types.map((part) => (part.isUnion() ? `(${next(part)})` : next(part))).join(' & ');
  if (type.isStringLiteral()) return JSON.stringify(type.value);
  if (type.isNumberLiteral()) return String(type.value);
  if (!(type.flags & ts.TypeFlags.Object)) return checker.typeToString(type);
  if (checker.isArrayType(type)) {
    const element = checker.getTypeArguments(type as ts.TypeReference)[0]!;
    const inner = next(element);
    const readonly = type.getSymbol()?.name === 'ReadonlyArray' ? 'readonly ' : '';
    return `${readonly}${/[|&]/.test(inner) ? `(${inner})` : inner}[]`;
  }
  if (checker.isTupleType(type)) return `[${checker.getTypeArguments(type as ts.TypeReference).map(next).join(', ')}]`;
  const declaredIn = type.getSymbol()?.declarations?.[0]?.getSourceFile().fileName ?? '';
  if (/\/typescript\/lib\/lib\./.test(declaredIn)) return checker.typeToString(type);
  if (type.getCallSignatures().length > 0) throw new Error(`Cannot spell out a function type: ${checker.typeToString(type)}`);
  const members: string[] = [];
  for (const info of checker.getIndexInfosOfType(type)) members.push(`${info.isReadonly ? 'readonly ' : ''}[key: ${checker.typeToString(info.keyType)}]: ${next(info.type)};`);
  for (const property of checker.getPropertiesOfType(type)) {
    const optional = property.flags & ts.SymbolFlags.Optional ? '?' : '';
    const readonly = property.declarations?.some((declaration) => ts.getCombinedModifierFlags(declaration) & ts.ModifierFlags.Readonly) ? 'readonly ' : '';
    const docs = ts.displayPartsToString(property.getDocumentationComment(checker));
    const name = /^[A-Za-z_$][\w$]*$/.test(property.name) ? property.name : JSON.stringify(property.name);
    const propertyType = checker.getTypeOfSymbol(property);
    // An optional property's type includes undefined: `name?: T` says it already.
    const spelled = optional && propertyType.isUnion() ? spellOutUnion(propertyType.types.filter((part) => !(part.flags & ts.TypeFlags.Undefined)), next) : next(propertyType);
    members.push(`${docs ? `/** ${docs.replace(/\*\//g, '*\\/').replace(/\n/g, '\n * ')} */\n` : ''}${readonly}${name}${optional}: ${spelled};`);
  }
  return `{\n${members.join('\n')}\n}`;
}

function spellOutUnion(types: readonly ts.Type[], next: (type: ts.Type) => string): string {
  const parts = types.map(next);
  // `boolean` is the union true | false.
  const merged = parts.includes('true') && parts.includes('false') ? [...parts.filter((part) => part !== 'true' && part !== 'false'), 'boolean'] : parts;
  return merged.join(' | ');
}

function removeUnreached(dir: string, reached: Set<string>): void {
  for (const entry of ts.sys.readDirectory(dir, ['.d.ts'])) {
    if (!reached.has(resolve(entry))) rmSync(entry);
  }
}

function firstLine(node: ts.Node): string {
  return node.getText().split('\n')[0]!.slice(0, 100);
}
