import path from 'node:path';
import { commandScenarios } from './scenarios-commands.js';

commandScenarios('SQLite', async (dir) => path.join(dir, 'e.db'));
