import { Title2 } from "@fluentui/react-components";
import { Link } from "react-router-dom";

export function NotFoundPage() {
  return (
    <section>
      <Title2 as="h1">Page not found</Title2>
      <p>
        There is nothing here. <Link to="/">Back to your meetings</Link>
      </p>
    </section>
  );
}
