// The media type of a Content-Type header: lower-cased, without parameters ("" when absent).
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
}
