declare module 'svg-to-pdfkit' {
  const SVGtoPDF: (doc: PDFKit.PDFDocument, svg: string, x: number, y: number, options?: Record<string, unknown>) => void;
  export default SVGtoPDF;
}
declare module 'jstat' {
  const jstat: {
    jStat: {
      studentt: { cdf(x: number, dof: number): number; inv(p: number, dof: number): number };
      normal: { cdf(x: number, mean: number, std: number): number; inv(p: number, mean: number, std: number): number };
    };
  };
  export default jstat;
}
