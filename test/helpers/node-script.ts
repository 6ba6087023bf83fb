/** Run an ES module script in a fresh Node process and return what it printed, parsed as JSON. */

import { execFile } from 'node:child_process';

export function runNodeScript<T>(script: string, timeoutMs = 60_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}
