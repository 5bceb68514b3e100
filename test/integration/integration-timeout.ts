// A project's `testTimeout` does not reach hooks; resetting the stack in beforeAll/afterAll takes seconds.
jest.setTimeout(180_000);
