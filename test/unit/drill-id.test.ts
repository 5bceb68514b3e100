import { drillWorkflowId } from '../../cli/drill-runs';

describe('drill ids', () => {
  it('differ for two drills of one subject started within the same second', () => {
    const second = new Date('2026-11-29T07:31:36.120Z');
    const first = drillWorkflowId('us-east-1', second);
    const next = drillWorkflowId('us-east-1', new Date(second.getTime() + 300));
    expect(first).not.toBe(next);
  });

  it('name the subject and the UTC second, so they read and sort by start', () => {
    expect(drillWorkflowId('ehr-db', new Date('2026-11-29T07:31:36.120Z'))).toMatch(
      /^drill-ehr-db-20261129-073136-[0-9a-f]{6}$/,
    );
  });
});
