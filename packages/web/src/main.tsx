import '@mantine/core/styles.css';
import { createTheme, MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { I18nextProvider } from 'react-i18next';
import { App } from './app/App.tsx';
import { i18n } from './i18n/index.ts';
import { isPortalCallback } from './portal/portal-auth.ts';
import { PortalApp } from './portal/PortalApp.tsx';

const theme = createTheme({
  primaryColor: 'teal',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
});
// screens refetch when the window regains focus; results stay fresh for 15 s
const queries = new QueryClient({ defaultOptions: { queries: { staleTime: 15_000, retry: 1 } } });

document.documentElement.lang = i18n.language;
// the patient portal has its own shell at /portal; a sign-in it started returns to / and goes back into it
const portal = window.location.pathname.startsWith('/portal') || isPortalCallback();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <I18nextProvider i18n={i18n}>
        <MantineProvider theme={theme}>
          <QueryClientProvider client={queries}>{portal ? <PortalApp /> : <App />}</QueryClientProvider>
        </MantineProvider>
      </I18nextProvider>
    </StrictMode>,
  );
}
