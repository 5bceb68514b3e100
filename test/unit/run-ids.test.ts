import { startedRunId } from '../../cli/run-ids';

describe('drill and evacuation ids', () => {
  it.each(['drill', 'evacuation'] as const)(
    'differ for two %ss of one subject started within the same second',
    (kind) => {
      const second = new Date('2026-11-29T07:31:36.120Z');
      const first = startedRunId(kind, 'us-east-1', second);
      const next = startedRunId(kind, 'us-east-1', new Date(second.getTime() + 300));
      expect(first).not.toBe(next);
    },
  );

  it('name the kind, the subject and the UTC second, so they read and sort by start', () => {
    expect(startedRunId('drill', 'ehr-db', new Date('2026-11-29T07:31:36.120Z'))).toMatch(
      /^drill-ehr-db-20261129-073136-[0-9a-f]{6}$/,
    );
    expect(startedRunId('evacuation', 'us-east-1', new Date('2026-11-29T07:31:36.120Z'))).toMatch(
      /^evacuation-us-east-1-20261129-073136-[0-9a-f]{6}$/,
    );
  });
});
