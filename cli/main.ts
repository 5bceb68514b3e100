import { buildProgram } from './program';
import { enableRunbookMemo } from './runbook-memo';

enableRunbookMemo();
void buildProgram().parseAsync(process.argv);
