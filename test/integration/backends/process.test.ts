/** The backend contract against the process backend (no isolation: the security tests do not apply). */
import { ProcessBackend } from '../../../src/agent/backends/process.js';
import { describeBackendContract } from './contract.js';

describeBackendContract('process', async (dataDir) => new ProcessBackend({ dataDir }), { isolated: false });
