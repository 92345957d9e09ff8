import path from 'node:path';
import { commandScenarios } from '../support/scenarios-commands.js';

commandScenarios('SQLite', async (dir) => path.join(dir, 'e.db'));
