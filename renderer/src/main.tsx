// The UI's entry: open the event stream and mount the app. Everything it
// knows comes from the daemon over HTTP/SSE, typed by daemon/contract.
import { render } from 'preact';
import { App } from './app.js';
import { startLive } from './store/live.js';
import './styles.css';

startLive();
render(<App />, document.getElementById('app')!);
