// The UI's entry: mount the app. Everything it knows comes from the daemon
// over HTTP/SSE, typed by daemon/contract.
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
