import path from 'node:path';
import { workerScenarios } from '../support/scenarios-worker.js';

workerScenarios('SQLite', async (dir) => path.join(dir, 'w.db'));
