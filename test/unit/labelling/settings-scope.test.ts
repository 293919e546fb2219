import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settingsCommandFor } from '../../../src/extension/labelling/settings-scope';

// "Open Settings" from a labelling error must open the scope where the machine-scoped judge settings can be set.

void describe('judge settings scope', () => {
  void it('remote windows and web workbenches (code-server) open Remote settings; local desktop windows User settings', () => {
    assert.equal(settingsCommandFor('ssh-remote', false), 'workbench.action.openRemoteSettings');
    assert.equal(settingsCommandFor(undefined, true), 'workbench.action.openRemoteSettings');
    assert.equal(settingsCommandFor(undefined, false), 'workbench.action.openSettings');
    assert.equal(settingsCommandFor('', false), 'workbench.action.openSettings');
  });
});
