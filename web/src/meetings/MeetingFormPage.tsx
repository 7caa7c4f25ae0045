import { Title2 } from "@fluentui/react-components";

// Placeholder of the scaffold: the web helper builds this page.
export function MeetingFormPage() {
  return <Title2 as="h1">MeetingFormPage</Title2>;
}
