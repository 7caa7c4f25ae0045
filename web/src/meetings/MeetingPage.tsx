import { Title2 } from "@fluentui/react-components";

// Placeholder of the scaffold: the web helper builds this page.
export function MeetingPage() {
  return <Title2 as="h1">MeetingPage</Title2>;
}
