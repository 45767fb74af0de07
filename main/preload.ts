// The window's preload: runs sandboxed (only a few of Electron's modules), so
// it is bundled to CommonJS with nothing but bridge.ts inside. It exposes the
// typed bridge and nothing else; no Node API reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_KEY, createDesktopApi } from './bridge.js';

contextBridge.exposeInMainWorld(BRIDGE_KEY, createDesktopApi((channel, ...args) => ipcRenderer.invoke(channel, ...args), process.argv, process.platform));
