/**
 * Last-resort limit for a wait on a condition, an event or a line of output:
 * long enough that a loaded two-core machine never reaches it while the code
 * under test is making progress (an engine start that takes 300 ms idle can
 * take a minute there when several suites share it), so only code that will
 * never get there fails on it.
 * Tests wait for what matters and never assert on how long it took.
 */
export const SAFETY_MS = 120_000;
