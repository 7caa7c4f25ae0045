import { Title2 } from "@fluentui/react-components";

// Placeholder of the scaffold: the web helper builds this page.
export function MeetingsPage() {
  return <Title2 as="h1">MeetingsPage</Title2>;
}
