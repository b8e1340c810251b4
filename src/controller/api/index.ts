export { startApiServer, type ApiServerOptions, type RunningApiServer } from './server.js';
