import type { Session } from '../session';

/** What the shell gives every page: the session and the route after the page name. */
export interface PageProps {
  session: Session;
  args: string[];
}
