import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log warnings and errors only; a failing test prints what matters.
Runtime.install({ logger: new DefaultLogger('WARN') });
