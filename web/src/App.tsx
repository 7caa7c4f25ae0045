import { FluentProvider, webLightTheme } from "@fluentui/react-components";
import { lazy, Suspense } from "react";
import { BrowserRouter, Route, Routes } from "react-router-dom";

import { ConfigGate } from "./components/ConfigGate";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Loading";
import { NotFoundPage } from "./components/NotFoundPage";
import { MeetingFormPage } from "./meetings/MeetingFormPage";
import { MeetingPage } from "./meetings/MeetingPage";
import { MeetingsPage } from "./meetings/MeetingsPage";

// Heavy pages load when first visited: the call page brings the ACS UI library, the recording page the
// player, transcript and summary, the search page its results. The first page a user sees stays small.
const CallPage = lazy(() => import("./call/CallPage"));
const RecordingPage = lazy(() => import("./recordings/RecordingPage"));
const SearchPage = lazy(() => import("./search/SearchPage"));
// Visited rarely (an export, an erasure): kept out of the first page too.
const MyDataPage = lazy(() => import("./me/MyDataPage"));

export function App() {
  return (
    <FluentProvider theme={webLightTheme}>
      <BrowserRouter>
        <ConfigGate>
          <Layout>
            <Suspense fallback={<Loading label="Loading page" />}>
              <Routes>
                <Route path="/" element={<MeetingsPage />} />
                <Route path="/meetings/new" element={<MeetingFormPage />} />
                <Route path="/meetings/:meetingId" element={<MeetingPage />} />
                <Route path="/meetings/:meetingId/edit" element={<MeetingFormPage />} />
                <Route path="/meetings/:meetingId/call" element={<CallPage />} />
                <Route path="/meetings/:meetingId/recordings/:recordingId" element={<RecordingPage />} />
                <Route path="/search" element={<SearchPage />} />
                <Route path="/me" element={<MyDataPage />} />
                <Route path="*" element={<NotFoundPage />} />
              </Routes>
            </Suspense>
          </Layout>
        </ConfigGate>
      </BrowserRouter>
    </FluentProvider>
  );
}
