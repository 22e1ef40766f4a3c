// What the browser scripts in lectern/static share at run time, declared for the type check
// (tsconfig.json) only.

/** A resource decoded from the JSON API; its fields are the API contract's, unchecked here. */
type ApiRecord = Record<string, any>;

/** A click on a button built by Lectern.h, whose handlers read the button from the target. */
type ButtonClick = MouseEvent & { target: HTMLButtonElement };

/** What student.js lends the course player. */
interface LecternStudentApi {
  certificateLinks(certificate: ApiRecord): HTMLDivElement;
  statusBadge(status: string): HTMLSpanElement;
  /** The way into a course the learner may take (enroll, request access, buy), or its state. */
  catalogAction(
    course: ApiRecord,
    request: ApiRecord | undefined,
    refresh: () => void,
  ): HTMLDivElement;
}

declare var LecternStudent: LecternStudentApi;

/** The part of Plotly (served at /assets/plotly.min.js on the admin pages) that admin.js uses. */
interface PlotlyApi {
  react(
    target: string | HTMLElement,
    traces: object[],
    layout?: object,
    config?: object,
  ): Promise<unknown>;
}

declare var Plotly: PlotlyApi;

/** A form submitted through a handler that reads the form from the target. */
type FormSubmit = SubmitEvent & { target: HTMLFormElement };

/** A form whose controls the scripts read by name (`form.elements.title.value`). */
type NamedForm = HTMLFormElement & {
  elements: HTMLFormControlsCollection & Record<string, HTMLInputElement>;
};

/** What player.js exposes for the browser tests. */
declare var LecternPlayer: {
  subtract(range: [number, number], covered: [number, number][]): [number, number][];
};
