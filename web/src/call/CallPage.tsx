import { Title2 } from "@fluentui/react-components";

// Placeholder of the scaffold: the web helper builds this page. Default export: loaded lazily.
export default function CallPage() {
  return <Title2 as="h1">CallPage</Title2>;
}
