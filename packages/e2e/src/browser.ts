import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt install chromium); `npx playwright install` cannot work on these machines. */
export const CHROMIUM = process.env.SEN_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Whether browser journeys can run here; when not, say so once, clearly. */
export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export const SKIP_NOTICE = `Browser journeys skipped: ${CHROMIUM} not found (install Debian's chromium package; CI does).`;

const ROOT = resolve(new URL('../../..', import.meta.url).pathname);
export const SCREENSHOT_DIR = join(ROOT, 'test-results', 'screenshots');

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, headless: true });
}

/** A journey's browser page with numbered screenshots under test-results/screenshots/<journey>/. */
export class Journey {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
  private n = 0;

  private constructor(name: string, context: BrowserContext, page: Page) {
    this.name = name;
    this.context = context;
    this.page = page;
  }

  static async open(
    browser: Browser,
    name: string,
    viewport: { width: number; height: number } = { width: 1366, height: 800 },
  ): Promise<Journey> {
    const context = await browser.newContext({ viewport, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    const page = await context.newPage();
    // this run's screenshots only: an earlier run's would be mistaken for this one's
    rmSync(join(SCREENSHOT_DIR, name), { recursive: true, force: true });
    mkdirSync(join(SCREENSHOT_DIR, name), { recursive: true });
    return new Journey(name, context, page);
  }

  /** Saves `NN-<step>.png` for this step and returns its path. */
  async shot(step: string): Promise<string> {
    this.n += 1;
    const file = join(SCREENSHOT_DIR, this.name, `${String(this.n).padStart(2, '0')}-${step}.png`);
    await this.page.screenshot({ path: file, fullPage: true });
    return file;
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
