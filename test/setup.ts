import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log errors only (failure-path tests produce expected warnings); a failing test prints what matters.
Runtime.install({ logger: new DefaultLogger('ERROR') });
