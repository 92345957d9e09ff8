import path from 'node:path';
import { raceScenarios } from '../support/scenarios-race.js';

raceScenarios('SQLite', async (dir) => path.join(dir, 'race.db'));
