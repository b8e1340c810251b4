import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ActionLoadError, loadZipAction, ZipActionMessages, type LoadZipActionOptions } from '../../../src/runtime/action.js';
import { zipOf } from '../../support/zip-writer.js';

const b64 = (files: Record<string, string>) => zipOf(files).toString('base64');

// ---------------------------------------------------------------- tests

let parent: string;

beforeEach(() => {
  parent = fs.mkdtempSync(path.join(os.tmpdir(), 'brisk-zip-action-test-'));
});

afterEach(() => {
  fs.rmSync(parent, { recursive: true, force: true });
});

const load = (files: Record<string, string>, options: Partial<LoadZipActionOptions> = {}) =>
  loadZipAction({ code: b64(files), dir: parent, ...options });

/** Loads, expects an ActionLoadError with exactly `message`, and checks the extraction was removed. */
function refused(files: Record<string, string> | string, message: string, options: Partial<LoadZipActionOptions> = {}): ActionLoadError {
  let caught: unknown;
  try {
    loadZipAction({ code: typeof files === 'string' ? files : b64(files), dir: parent, ...options });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ActionLoadError);
  expect((caught as Error).message).toBe(message);
  expect(fs.readdirSync(parent).filter((name) => name.startsWith('brisk-zip-'))).toEqual([]);
  return caught as ActionLoadError;
}

const project = {
  'package.json': JSON.stringify({ name: 'act', main: 'lib/entry.js' }),
  'lib/': '',
  'lib/entry.js': [
    "const greet = require('greet');",
    "const { twice } = require('./util/twice.js');",
    "exports.main = (params) => ({ msg: greet(params.name), n: twice(params.n), here: __dirname });",
    'exports.later = async (params) => ({ later: params.n });',
    'exports.nested = { fn: () => ({ nested: true }) };',
    "exports.notFn = 'no';",
  ].join('\n'),
  'lib/util/twice.js': 'exports.twice = (n) => n * 2;',
  'lib/other.js': 'exports.run = () => ({ other: true });',
  'node_modules/greet/package.json': JSON.stringify({ name: 'greet', main: 'greet.js' }),
  'node_modules/greet/greet.js': "module.exports = (name) => 'hello ' + name;",
};

describe('loadZipAction', () => {
  it('extracts the archive, follows package.json main, resolves bundled node_modules and runs main', () => {
    const loaded = load(project);
    const root = fs.realpathSync(loaded.root);
    expect(path.dirname(loaded.root)).toBe(parent);
    expect(path.basename(loaded.root)).toMatch(/^brisk-zip-/);
    expect(loaded.entryFile).toBe(path.join(root, 'lib', 'entry.js'));
    expect(loaded.action({ name: 'ada', n: 21 })).toEqual({ msg: 'hello ada', n: 42, here: path.join(root, 'lib') });
    expect(fs.readFileSync(path.join(loaded.root, 'node_modules/greet/greet.js'), 'utf8')).toBe(project['node_modules/greet/greet.js']);
  });

  it('takes the export named by main, including async functions and property paths', async () => {
    await expect(load(project, { main: 'later' }).action({ n: 3 })).resolves.toEqual({ later: 3 });
    // OpenWhisk: the part before the first dot names a module, the rest a property path in it
    expect(load(project, { main: 'lib/other.run' }).action({})).toEqual({ other: true });
    expect(load(project, { main: 'lib/entry.nested.fn' }).action({})).toEqual({ nested: true });
  });

  it('falls back to index.js without package.json, or with a package.json without main', () => {
    const index = { 'index.js': 'exports.main = () => ({ from: "index" });' };
    const a = load(index);
    expect(a.entryFile).toBe(path.join(fs.realpathSync(a.root), 'index.js'));
    expect(a.action({})).toEqual({ from: 'index' });
    expect(load({ 'package.json': '{"name":"x"}', ...index }).action({})).toEqual({ from: 'index' });
  });

  it('changes directory into the archive only when asked', () => {
    const before = process.cwd();
    try {
      const files = { 'index.js': "exports.main = () => ({ data: require('fs').readFileSync('data.txt', 'utf8') });", 'data.txt': 'payload' };
      const loaded = load(files, { chdir: true });
      expect(fs.realpathSync(process.cwd())).toBe(fs.realpathSync(loaded.root));
      expect(loaded.action({})).toEqual({ data: 'payload' });
      process.chdir(before);
      load(files);
      expect(process.cwd()).toBe(before);
    } finally {
      process.chdir(before);
    }
  });

  it('removes the extraction directory on remove(), and registers it for exit when asked', () => {
    const listeners = process.listenerCount('exit');
    const loaded = load(project, { removeOnExit: true });
    expect(process.listenerCount('exit')).toBe(listeners + 1);
    loaded.remove();
    expect(fs.existsSync(loaded.root)).toBe(false);
    loaded.remove();
    process.removeListener('exit', loaded.remove);
    expect(process.listenerCount('exit')).toBe(listeners);
  });

  it('refuses an entry that is not an exported function, like OpenWhisk', () => {
    refused(project, "Action entrypoint 'notFn' is not a function.", { main: 'notFn' });
    refused(project, "Action entrypoint 'missing' is not a function.", { main: 'missing' });
    // module.exports being a function is not enough for zip actions: the export `main` must exist
    refused({ 'index.js': 'module.exports = () => ({});' }, "Action entrypoint 'main' is not a function.");
  });

  it('refuses archives without package.json or index.js at the root', () => {
    refused({ 'lib/index.js': 'exports.main = () => ({});' }, ZipActionMessages.noRoot);
    expect(ZipActionMessages.noRoot).toBe('Zipped actions must contain either package.json or index.js at the root.');
  });

  it('refuses invalid entry names before extracting anything', () => {
    refused(project, "The entry point name '.main' is not valid.", { main: '.main' });
    refused(project, "The entry point name 'main.' is not valid.", { main: 'main.' });
    refused(project, "The entry point name 'lib/entry.a-b' is not valid.", { main: 'lib/entry.a-b' });
    refused(project, "The entry point name '../x.main' is not valid.", { main: '../x.main' });
    refused(project, "The entry point name '/etc/x.main' is not valid.", { main: '/etc/x.main' });
  });

  it('refuses a package.json main that points outside the archive', () => {
    fs.writeFileSync(path.join(parent, 'outside.js'), 'exports.main = () => ({ escaped: true });');
    const outside = path.join(fs.realpathSync(parent), 'outside.js');
    refused({ 'package.json': '{"main":"../outside.js"}' }, `The action module '${outside}' lies outside the action archive.`);
  });

  it('reports archives refused by the zip reader as uncompress failures, with the ZipError as cause', () => {
    const slip = refused({ '../x.js': 'exports.main = () => ({})' }, "There was an error uncompressing the action archive: entry '../x.js' is refused: it contains a '..' segment.");
    expect(slip.cause).toMatchObject({ code: 'ZIP_UNSAFE_ENTRY' });
    const notZip = refused(Buffer.from('function main() {}').toString('base64'), 'There was an error uncompressing the action archive: not a zip archive: bad signature.');
    expect(notZip.cause).toMatchObject({ code: 'ZIP_MALFORMED' });
    const tooMany = refused(project, 'There was an error uncompressing the action archive: the archive has 7 entries, more than the limit of 3.', { limits: { maxEntries: 3 } });
    expect(tooMany.cause).toMatchObject({ code: 'ZIP_LIMIT_EXCEEDED' });
  });

  it('lets an error thrown while requiring the module through, and cleans up', () => {
    let caught: unknown;
    try {
      load({ 'index.js': "throw new TypeError('bad module');" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as Error).message).toBe('bad module');
    expect(fs.readdirSync(parent)).toEqual([]);
  });
});
