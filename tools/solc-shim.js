#!/usr/bin/env node
// Makes solc-js (npm `solc`) answer as a native `solc` binary to py-solc-x and brownie.
//
// No native solc can be downloaded on the machines SomStack runs on, so `make` links this file as
// `.solcx/solc-v<version>` and points py-solc-x at it through SOLCX_BINARY_PATH.
//
// Supported, because these are what py-solc-x and brownie really pass:
//   solc --version
//   solc --help                      (py-solc-x reads the `--combined-json` line of it)
//   solc --standard-json [--allow-paths a,b] [--base-path p] [--include-path p]... [-]
// Anything else is refused with one line on stderr and exit code 1, so that a caller that
// needs more is told, instead of getting a silent empty answer.
'use strict';

const fs = require('fs');
const path = require('path');

const solc = require(path.join(__dirname, '..', 'node_modules', 'solc'));

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const opts = { standardJson: false, allowPaths: [], basePath: null, includePaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`option ${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--version':
        opts.version = true;
        break;
      case '--help':
        opts.help = true;
        break;
      case '--standard-json':
        opts.standardJson = true;
        break;
      case '--allow-paths':
        opts.allowPaths.push(...value().split(',').filter(Boolean));
        break;
      case '--base-path':
        opts.basePath = value();
        break;
      case '--include-path':
        opts.includePaths.push(value());
        break;
      case '-':
        break;
      default:
        fail(`solc-js shim: unsupported argument '${arg}' (only --version, --help and --standard-json are supported)`);
    }
  }
  return opts;
}

// Resolves an import the way solc's file reader does: absolute paths as they are, relative
// ones against the base path, the include paths, the allowed paths and the working directory.
// Only files inside an allowed root may be read.
function makeImportReader(opts) {
  const cwd = process.cwd();
  const roots = [opts.basePath || cwd, ...opts.includePaths, ...opts.allowPaths, cwd].map((p) => path.resolve(cwd, p));
  const allowed = roots.map((p) => p + path.sep);
  const isAllowed = (file) => allowed.some((root) => file.startsWith(root));
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((root) => path.join(root, importPath));
    for (const file of candidates) {
      if (isAllowed(file) && fs.existsSync(file) && fs.statSync(file).isFile()) {
        return { contents: fs.readFileSync(file, 'utf8') };
      }
    }
    return { error: `File not found inside the allowed paths: ${importPath}` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return;
  }
  if (opts.help) {
    process.stdout.write(
      'solc-js shim for py-solc-x\n\nUsage: solc --standard-json < input.json\n\n' +
        '  --standard-json      Switch to Standard JSON input / output mode.\n' +
        '  --combined-json abi,bin,bin-runtime,srcmap,srcmap-runtime,ast,hashes\n'
    );
    return;
  }
  if (!opts.standardJson) fail('solc-js shim: only --standard-json compilation is supported');
  const input = fs.readFileSync(0, 'utf8');
  const output = solc.compile(input, { import: makeImportReader(opts) });
  process.stdout.write(output);
}

main();
